"""People: accounts, sign-in, tokens and what each role may see and do (docs/security.md)."""
