"""What demos, not what ships: ``community demo`` (one command, the whole system on embedded
defaults), the brokers it and the tests run privately, the demo city, its venues' history and
users, and the synthetic city seed (``community seed``). Nothing the edge or the hub ships imports
this package; it imports both."""
