"""``studio shortcut``: add DL Studio to the desktop's app menu (and open .dlstudio files with it)."""

from __future__ import annotations

from studio.cli import CliError


def register(subparsers) -> None:
    shortcut = subparsers.add_parser(
        "shortcut", help="add the app to the desktop's menu, opening .dlstudio files (--remove: take it away)",
        description="Linux: a freedesktop launcher with the studio's icon that opens .dlstudio projects "
        "(in $XDG_DATA_HOME, default ~/.local/share); Windows and macOS: a Start-menu / Desktop entry "
        "(needs the shortcut extra). The launcher runs this Python's studio.")
    shortcut.add_argument("--remove", action="store_true", help="remove the launcher again")
    shortcut.set_defaults(func=_shortcut)


def _shortcut(args) -> int:
    from studio.core.integrations.errors import IntegrationError
    from studio.core.integrations.shortcut import create_shortcut, remove_shortcut

    try:
        paths = remove_shortcut() if args.remove else create_shortcut()
    except IntegrationError as exc:
        raise CliError(str(exc)) from None
    if args.remove:
        print(f"removed {len(paths)} launcher file(s)" if paths else "no launcher to remove")
    else:
        print(f"added the DL Studio launcher ({len(paths)} file(s)), e.g. {paths[0]}" if paths else "no launcher made")
    return 0
