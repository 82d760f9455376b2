// the on-device status page (filled in below)
