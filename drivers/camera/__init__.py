"""Cameras: OpenCV capture from a device, a video file or an image sequence."""
