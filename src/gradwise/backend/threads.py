"""The number of BLAS threads NumPy uses, settable from gradwise."""

_limiter = {"controller": None}


def set_num_threads(n_threads):
    """Limit NumPy's BLAS (matrix products) to ``n_threads`` threads, process-wide.

    Small matrices often train faster on one thread; large ones gain from several.
    Uses threadpoolctl, so it works for OpenBLAS, MKL and BLIS alike.
    """
    from threadpoolctl import threadpool_limits

    from .._validation import check_positive_int
    n_threads = check_positive_int(n_threads, "n_threads")
    _limiter["controller"] = threadpool_limits(limits=n_threads, user_api="blas")
    return n_threads
