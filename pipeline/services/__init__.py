"""Pipeline writes: `pipeline.services.leads` and `pipeline.services.opportunities`."""
