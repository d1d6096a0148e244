os           = "windows"
is_windows   = true
ssh_username = "Administrator"
iso_url      = "https://example.invalid/windows-server-2019.iso"
