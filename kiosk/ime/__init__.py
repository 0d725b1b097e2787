"""On-screen text entry without Kivy: the pinyin input method (``pinyin``)."""
