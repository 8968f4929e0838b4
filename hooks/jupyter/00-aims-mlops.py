"""IPython startup file: load the aims_mlops extension in every kernel, never breaking it.

Install: copy to ``~/.ipython/profile_default/startup/`` (or the ``startup/`` folder of the
profile your kernels use). Every new kernel then runs ``%load_ext aims_mlops``: evidence capture
binds to the AI system of ``$AIMS_SYSTEM`` / ``aims.yaml`` as the extension decides.
A missing package, a broken ``aims.yaml`` or any other problem prints one warning line on
stderr and the kernel starts as usual. ``AIMS_JUPYTER_AUTOLOAD=0`` turns it off.
"""


def _aims_mlops_startup() -> None:
    import os
    import sys

    if os.environ.get("AIMS_JUPYTER_AUTOLOAD", "1").strip().lower() in {"0", "false", "no", "off"}:
        return
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:  # plain Python, not a kernel or an IPython shell
        return
    try:
        outcome = shell.extension_manager.load_extension("aims_mlops")
    except BaseException as exc:  # a startup file must never stop the kernel from starting
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            print("aims_mlops startup: interrupted; extension not loaded", file=sys.stderr)
            return
        print(
            f"aims_mlops startup: extension not loaded ({type(exc).__name__}: {exc}); "
            "the kernel works without evidence capture. Fix it, then run %load_ext aims_mlops",
            file=sys.stderr,
        )
        return
    if outcome not in (None, "already loaded"):
        print(f"aims_mlops startup: extension not loaded ({outcome})", file=sys.stderr)


_aims_mlops_startup()
del _aims_mlops_startup
