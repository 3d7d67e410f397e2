"""Our own tokens for mini-program users: access JWTs and rotating refresh tokens."""
