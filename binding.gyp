{
  "variables": {
    "ct_static%": "1",
    "ct_core": ["src/names.c", "src/template.c", "src/error.c", "src/records.c"],
    "ct_linux": [
      "src/linux/root.c", "src/linux/cgroup.c", "src/linux/map.c",
      "src/linux/tmpl.c", "src/linux/watch.c", "src/linux/contract.c",
      "src/linux/keep.c", "src/linux/device.c", "src/linux/core.c"
    ]
  },
  "targets": [
    {
      "target_name": "illumos_contract",
      "sources": ["src/binding.c", "src/binding/args.c", "src/binding/convert.c", "src/binding/errors.c", "src/binding/events.c", "src/binding/objects.c", "<@(ct_core)"],
      "include_dirs": ["src"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "conditions": [
        ["OS=='linux'", {
          "sources": ["<@(ct_linux)"],
          "defines": ["_GNU_SOURCE"],
          "libraries": ["-lpthread"]
        }],
        ["OS=='solaris'", {
          "sources": ["src/illumos.c"],
          "defines": ["__EXTENSIONS__", "_REENTRANT", "_LARGEFILE_SOURCE", "_FILE_OFFSET_BITS=64"],
          "libraries": ["-lcontract", "-lnvpair"]
        }],
        ["OS!='linux' and OS!='solaris'", {
          "sources": ["src/none.c"]
        }]
      ]
    }
  ],
  "conditions": [
    ["OS=='linux'", {
      "targets": [
        {
          "target_name": "ct-exec",
          "type": "executable",
          "sources": ["src/helpers/exec.c"],
          "defines": ["_GNU_SOURCE"],
          "cflags_c": ["-std=c11", "-Wall", "-Wextra"],
          "conditions": [
            ["ct_static==1 and (target_arch=='x64' or target_arch=='arm64')", {
              "defines": ["SHIM_NOLIBC"],
              "cflags_c": ["-ffreestanding", "-fno-builtin",
                "-fno-stack-protector", "-fno-pie",
                "-fno-tree-loop-distribute-patterns",
                "-fno-asynchronous-unwind-tables"],
              "ldflags": ["-static", "-nostdlib", "-no-pie"]
            }],
            ["ct_static==1 and target_arch!='x64' and target_arch!='arm64'", {
              "ldflags": ["-static"]
            }]
          ]
        },
        {
          "target_name": "ct-keeper",
          "type": "executable",
          "sources": [
            "src/helpers/keeper.c", "src/linux/root.c", "src/linux/cgroup.c",
            "<@(ct_core)"
          ],
          "include_dirs": ["src", "src/linux"],
          "defines": ["_GNU_SOURCE"],
          "cflags_c": ["-std=c11", "-Wall", "-Wextra"]
        },
        {
          "target_name": "ctrun",
          "type": "executable",
          "sources": [
            "src/cli/ctrun.c", "src/cli/cli.c", "src/cli/evprint.c",
            "src/cli/spawn.c",
            "<@(ct_linux)",
            "<@(ct_core)"
          ],
          "include_dirs": ["src"],
          "defines": ["_GNU_SOURCE"],
          "cflags_c": ["-std=c11", "-Wall", "-Wextra"],
          "libraries": ["-lpthread", "-ldl"]
        },
        {
          "target_name": "ctstat",
          "type": "executable",
          "sources": [
            "src/cli/ctstat.c", "src/cli/cli.c",
            "<@(ct_linux)",
            "<@(ct_core)"
          ],
          "include_dirs": ["src"],
          "defines": ["_GNU_SOURCE"],
          "cflags_c": ["-std=c11", "-Wall", "-Wextra"],
          "libraries": ["-lpthread", "-ldl"]
        },
        {
          "target_name": "ctwatch",
          "type": "executable",
          "sources": [
            "src/cli/ctwatch.c", "src/cli/cli.c", "src/cli/evprint.c",
            "<@(ct_linux)",
            "<@(ct_core)"
          ],
          "include_dirs": ["src"],
          "defines": ["_GNU_SOURCE"],
          "cflags_c": ["-std=c11", "-Wall", "-Wextra"],
          "libraries": ["-lpthread", "-ldl"]
        }
      ]
    }],
    ["OS=='solaris'", {
      "targets": [
        {
          "target_name": "ctrun",
          "type": "executable",
          "sources": [
            "src/cli/ctrun.c", "src/cli/cli.c", "src/cli/evprint.c",
            "src/cli/spawn.c",
            "src/illumos.c",
            "<@(ct_core)"
          ],
          "include_dirs": ["src"],
          "defines": ["__EXTENSIONS__", "_REENTRANT", "_LARGEFILE_SOURCE", "_FILE_OFFSET_BITS=64"],
          "cflags_c": ["-std=c11", "-Wall", "-Wextra"],
          "libraries": ["-lcontract", "-lnvpair"]
        },
        {
          "target_name": "ctstat",
          "type": "executable",
          "sources": [
            "src/cli/ctstat.c", "src/cli/cli.c",
            "src/illumos.c",
            "<@(ct_core)"
          ],
          "include_dirs": ["src"],
          "defines": ["__EXTENSIONS__", "_REENTRANT", "_LARGEFILE_SOURCE", "_FILE_OFFSET_BITS=64"],
          "cflags_c": ["-std=c11", "-Wall", "-Wextra"],
          "libraries": ["-lcontract", "-lnvpair"]
        },
        {
          "target_name": "ctwatch",
          "type": "executable",
          "sources": [
            "src/cli/ctwatch.c", "src/cli/cli.c", "src/cli/evprint.c",
            "src/illumos.c",
            "<@(ct_core)"
          ],
          "include_dirs": ["src"],
          "defines": ["__EXTENSIONS__", "_REENTRANT", "_LARGEFILE_SOURCE", "_FILE_OFFSET_BITS=64"],
          "cflags_c": ["-std=c11", "-Wall", "-Wextra"],
          "libraries": ["-lcontract", "-lnvpair"]
        }
      ]
    }]
  ]
}
