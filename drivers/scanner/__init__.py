"""Document scanners: SANE flatbeds/ADFs and the overhead document camera."""
