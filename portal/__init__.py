"""The county portal (`cardcheck serve`): a second face beside cli.py, calling the same use cases
through portal.services. See portal/README.md."""
