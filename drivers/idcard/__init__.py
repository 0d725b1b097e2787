"""ID card readers: GA 467 SAM readers over serial, and PC/SC readers for ICAO 9303 documents."""
