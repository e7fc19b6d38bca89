"""Operations: health and readiness, Prometheus metrics, request ids and JSON logs."""
