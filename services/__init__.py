"""The domain: no GraphQL and no HTTP in here. Every query starts from a caller's scope."""
