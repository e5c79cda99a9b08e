"""Sites: the registry of provisioned edges, their broker accounts and the bundles their boxes run."""
