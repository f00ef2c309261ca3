"""The demo county: a synthetic county's monthly drops with injected defects and their truth (see
demo.generate); it imports only ``schemas`` outside itself and is imported only by the demo command,
bench/ and tests."""
