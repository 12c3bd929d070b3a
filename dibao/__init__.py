"""dibao: 低保 case processing on Temporal."""
