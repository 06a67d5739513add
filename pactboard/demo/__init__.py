"""Demo data: one client company and three providers, loaded through the services."""
