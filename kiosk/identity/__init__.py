"""Identity: the document on the reader, the person at the camera, and the evidence between."""
