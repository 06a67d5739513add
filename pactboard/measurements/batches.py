def work_prefix(batch_id: int) -> str:
    raise NotImplementedError


def import_batches_recover() -> int:
    raise NotImplementedError


def import_batch_heartbeat(*, batch_id: int) -> None:
    raise NotImplementedError
