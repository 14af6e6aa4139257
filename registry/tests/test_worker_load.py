"""A registry file loaded as uploads are: stored with its job, sent on commit to the imports
queue, loaded by a real Celery worker process."""


from django.db import transaction

from blacklist.tasks import send_on_commit
from registry import loads
from registry.models import AreaCode, RegistryExchange
from registry.tasks import load_registry_file
from tasks_logs.models import TaskLog
from tests.helpers import wait_until_finished

from .files import numbers, xml, zipped


def test_a_zipped_xml_full_list_loads_through_a_worker_process(celery_worker_process):
    loaded = numbers(201, 2000) + numbers(973, 1000)
    with transaction.atomic():
        task_log = loads.save_file("nj.zip", zipped(("nj.xml", xml(loaded))), state="NJ")
        send_on_commit(load_registry_file, task_log.pk)

    task_log = wait_until_finished(task_log)

    assert (task_log.state, task_log.new, task_log.invalid) == (TaskLog.State.SUCCEEDED, 3000, 0), task_log.message
    assert set(RegistryExchange.objects.numbers()) == set(loaded)
    assert dict(AreaCode.objects.values_list("code", "state")) == {201: "NJ", 973: "NJ"}


def test_registry_loads_go_to_the_imports_queue():
    from blacklist_admin.celery import app

    assert app.amqp.router.route({}, load_registry_file.name)["queue"].name == "imports"
