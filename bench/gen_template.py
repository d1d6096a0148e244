#!/usr/bin/env python3
"""Writes a realistic Packer template of about N lines (default 1000) for
benchmarking `bake validate`: variables with types and validation, locals
that use functions and each other, sources, and builds with provisioner and
post-processor chains."""
import sys

target = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
out = []
i = 0
while len(out) < target:
    out += [
        f'variable "region_{i}" {{',
        '  type    = string',
        f'  default = "eu-west-{i % 3 + 1}"',
        '  validation {',
        f'    condition     = length(var.region_{i}) > 3',
        '    error_message = "The region is too short."',
        '  }',
        '}',
        '',
        f'variable "tags_{i}" {{',
        '  type = map(string)',
        f'  default = {{ team = "images", index = "{i}" }}',
        '}',
        '',
        'locals {',
        f'  name_{i}   = "web-${{var.region_{i}}}-${{lower("X{i}")}}"',
        f'  tags_{i}   = merge(var.tags_{i}, {{ name = local.name_{i} }})',
        f'  ports_{i}  = [for p in range(3) : p + {i}]',
        f'  joined_{i} = join(",", [for k, v in local.tags_{i} : "${{k}}=${{v}}"])',
        '}',
        '',
        f'source "null" "s{i}" {{',
        '  communicator = "none"',
        '}',
        '',
        'build {',
        f'  name    = "b{i}"',
        f'  sources = ["source.null.s{i}"]',
        '',
        '  provisioner "shell-local" {',
        f'    inline = ["echo ${{local.name_{i}}}", "echo ${{local.joined_{i}}}"]',
        f'    environment_vars = ["PORTS=${{join(" ", local.ports_{i})}}"]',
        '  }',
        '',
        '  post-processor "manifest" {',
        f'    output = "manifest-{i}.json"',
        '  }',
        '}',
        '',
    ]
    i += 1
print("\n".join(out))
