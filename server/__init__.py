"""The service: configuration, models, services, registry and verification endpoints, CLI."""
