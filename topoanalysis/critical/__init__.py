"""Critical points of shallow ReLU-like networks (Wu, Simsek & Ged, arXiv 2402.05626)."""
