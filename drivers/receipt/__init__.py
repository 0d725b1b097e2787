"""Receipt printers: ESC/POS over USB, serial, network or a CUPS raw queue."""
