from celery import shared_task


@shared_task(acks_late=True)
def deliver_webhook(pk: int) -> str:
    from api.webhooks import deliver

    return deliver(pk)


@shared_task
def requeue_due_webhooks() -> int:
    """Every minute: deliveries due for a retry, and any the broker lost (a worker restart, Redis down)."""
    from api.webhooks import requeue_due

    return requeue_due()
