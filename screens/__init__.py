"""Kivy screens: thin views over the kiosk's view-models. One ``.kv`` per screen, loaded lazily."""
