"""Guided citizen journeys: flows declared as data, steps without Kivy."""
