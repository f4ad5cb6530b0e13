"""Settings of the deliberately vulnerable example app. NEVER DEPLOY.

The credentials below are FAKE: AWS's documentation example key pair, planted so that
secret scanners have something to find. They grant access to nothing.
"""

DATABASE = ":memory:"

AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # noqa: S105 - planted, fake
