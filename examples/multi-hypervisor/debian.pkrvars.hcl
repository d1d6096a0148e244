os = "debian"
