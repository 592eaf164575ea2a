"""Accounts: sign-up, login and password checks (bcrypt off the loop), and the login throttle."""
