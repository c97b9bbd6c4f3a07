"""A proposal measured by `make bench`: RQ's forking worker with the job's modules imported
once, in the parent, so that each forked work horse finds them already loaded instead of
importing them again for every job."""

from rq.worker import Worker


class PreloadingWorker(Worker):
    def __init__(self, *args, **kwargs):
        import creations.jobs  # noqa: F401
        from creations.providers import image_provider, video_provider

        # Loading the configured providers imports their modules (Pillow, ffmpeg, SDKs).
        image_provider()
        video_provider()
        super().__init__(*args, **kwargs)
