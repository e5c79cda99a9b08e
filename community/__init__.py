"""The ``community`` console command: a small dispatcher that imports only the subcommand asked
for, so an edge box runs ``community edge`` with the edge's dependencies alone."""
