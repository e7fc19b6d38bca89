"""Background work: callback deliveries and jobs, claimed from the database with a lease."""
