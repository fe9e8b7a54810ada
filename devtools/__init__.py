"""Local development tooling (never packaged into the Lambda)."""
