{
  "variables": {
    "ct_static%": "1",
    "ct_static_tools%": "0",
    "ct_glibc_floor%": "0",
    "ct_test%": "0",
    "ct_core": ["src/names.c", "src/template.c", "src/error.c", "src/records.c",
      "src/helperdir.c", "src/evpop.c", "src/lock.c"],
    "ct_linux_base": [
      "src/linux/parse.c", "src/linux/map.c", "src/linux/safeio.c",
      "src/linux/trylock.c",
      "src/linux/proc.c",
      "src/linux/meta.c", "src/linux/cgroup.c", "src/linux/anchorproof.c",
      "src/linux/reaper.c", "src/linux/custody.c", "src/linux/sigsend.c",
      "src/linux/root.c",
      "src/linux/holder.c", "src/linux/evloop.c"
    ],
    "ct_linux": [
      "<@(ct_linux_base)",
      "src/linux/core.c", "src/linux/nlwalk.c", "src/linux/connector.c",
      "src/linux/trace.c", "src/linux/keep.c", "src/linux/reap.c",
      "src/linux/publish.c", "src/linux/watch.c", "src/linux/members.c", "src/linux/procinfo.c", "src/linux/device.c",
      "src/linux/contract.c", "src/linux/features.c", "src/linux/spawn.c",
      "src/linux/tmpl.c"
    ],
    "ct_illumos": [
      "src/illumos/ctfs.c", "src/illumos/tmpl.c", "src/illumos/contract.c",
      "src/illumos/status.c", "src/illumos/events.c", "src/illumos/trace.c",
      "src/illumos/members.c"
    ]
  },
  "target_defaults": {
    "conditions": [
      ["ct_test==1", { "defines": ["CT_TEST_BUILD"] }]
    ]
  },
  "targets": [
    {
      "target_name": "illumos_contract",
      "sources": ["src/binding.c", "src/binding/args.c", "src/binding/convert.c", "src/binding/errors.c", "src/binding/events.c", "src/binding/objects.c", "src/binding/trace.c", "<@(ct_core)"],
      "include_dirs": ["src"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "conditions": [
        ["OS=='linux'", {
          "sources": ["<@(ct_linux)"],
          "defines": ["_GNU_SOURCE"],
          "libraries": ["-lpthread"],
          "ldflags": ["-Wl,-z,nodelete"],
          "conditions": [
            ["ct_glibc_floor==1", {
              "sources": ["src/linux/glibc_floor.c"],
              "ldflags": ["-Wl,--wrap=stat64,--wrap=fstat64,--wrap=fstatat64,--wrap=pthread_once"]
            }]
          ]
        }],
        ["OS=='solaris'", {
          "sources": ["<@(ct_illumos)"],
          "include_dirs": ["src/illumos"],
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
          "sources": ["src/helpers/exec.c", "src/helpers/execvp.c",
            "src/helpers/anchor.c"],
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
            "src/helpers/keeper.c", "<@(ct_linux_base)", "<@(ct_core)"
          ],
          "include_dirs": ["src", "src/linux"],
          "defines": ["_GNU_SOURCE"],
          "cflags_c": ["-std=c11", "-Wall", "-Wextra"],
          "conditions": [
            ["ct_static_tools==1", { "ldflags": ["-static"] }]
          ]
        },
        {
          "target_name": "ctrun",
          "type": "executable",
          "sources": [
            "src/cli/ctrun.c", "src/cli/cli.c", "src/cli/evprint.c",
            "src/cli/spawn.c", "src/cli/trace_out.c", "src/cli/trace_page.c",
            "src/cli/init.c",
            "<@(ct_linux)",
            "<@(ct_core)"
          ],
          "include_dirs": ["src"],
          "defines": ["_GNU_SOURCE"],
          "cflags_c": ["-std=c11", "-Wall", "-Wextra"],
          "conditions": [
            ["ct_static_tools==1", { "ldflags": ["-static"] }]
          ],
          "libraries": ["-lpthread"]
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
          "conditions": [
            ["ct_static_tools==1", { "ldflags": ["-static"] }]
          ],
          "libraries": ["-lpthread"]
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
          "conditions": [
            ["ct_static_tools==1", { "ldflags": ["-static"] }]
          ],
          "libraries": ["-lpthread"]
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
            "src/cli/spawn.c", "src/cli/trace_out.c", "src/cli/trace_page.c",
            "src/cli/init.c",
            "<@(ct_illumos)",
            "<@(ct_core)"
          ],
          "include_dirs": ["src", "src/illumos"],
          "defines": ["__EXTENSIONS__", "_REENTRANT", "_LARGEFILE_SOURCE", "_FILE_OFFSET_BITS=64"],
          "cflags_c": ["-std=c11", "-Wall", "-Wextra"],
          "libraries": ["-lcontract", "-lnvpair"]
        },
        {
          "target_name": "ctstat",
          "type": "executable",
          "sources": [
            "src/cli/ctstat.c", "src/cli/cli.c",
            "<@(ct_illumos)",
            "<@(ct_core)"
          ],
          "include_dirs": ["src", "src/illumos"],
          "defines": ["__EXTENSIONS__", "_REENTRANT", "_LARGEFILE_SOURCE", "_FILE_OFFSET_BITS=64"],
          "cflags_c": ["-std=c11", "-Wall", "-Wextra"],
          "libraries": ["-lcontract", "-lnvpair"]
        },
        {
          "target_name": "ctwatch",
          "type": "executable",
          "sources": [
            "src/cli/ctwatch.c", "src/cli/cli.c", "src/cli/evprint.c",
            "<@(ct_illumos)",
            "<@(ct_core)"
          ],
          "include_dirs": ["src", "src/illumos"],
          "defines": ["__EXTENSIONS__", "_REENTRANT", "_LARGEFILE_SOURCE", "_FILE_OFFSET_BITS=64"],
          "cflags_c": ["-std=c11", "-Wall", "-Wextra"],
          "libraries": ["-lcontract", "-lnvpair"]
        }
      ]
    }]
  ]
}
