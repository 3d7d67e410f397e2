"""Application services: the use cases, between the handlers and the domain + adapters."""
