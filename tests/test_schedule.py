from django_rq.cron import DjangoCronScheduler


def test_the_recovery_pass_is_scheduled_every_minute(db):
    scheduler = DjangoCronScheduler()
    scheduler.load_config_from_file("phoenix.cron")
    jobs = {job.func_name: job for job in scheduler.get_jobs()}
    recovery = jobs["creations.jobs.recover_creations"]
    assert recovery.interval == 60
    assert recovery.queue_name == "default"
