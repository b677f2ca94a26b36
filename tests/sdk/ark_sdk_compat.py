"""Wire compatibility: the official Ark Python SDK (volcengine-python-sdk) against our simulator.

Usage: python3 ark_sdk_compat.py BASE_URL
Runs create / get / list / delete through the unmodified SDK and exits non-zero on any mismatch.
"""
import sys
import time

from volcenginesdkarkruntime import Ark


def main() -> int:
    base = sys.argv[1]
    client = Ark(base_url=base, api_key="sdk-compat-key", max_retries=0, timeout=20)
    tasks = client.content_generation.tasks

    created = tasks.create(
        model="doubao-seedance-2-0-fast-260128",
        content=[{"type": "text", "text": "First-person apple fruit tea ad [[sim:succeed]]"}],
        ratio="16:9",
        duration=4,
        resolution="720p",
        watermark=False,
        generate_audio=False,
        return_last_frame=True,
    )
    assert created.id.startswith("cgt-"), created
    deadline = time.time() + 60
    task = tasks.get(task_id=created.id)
    while task.status not in ("succeeded", "failed", "expired", "cancelled"):
        assert time.time() < deadline, f"task stuck in {task.status}"
        time.sleep(0.2)
        task = tasks.get(task_id=created.id)
    assert task.status == "succeeded", task
    assert task.content.video_url.startswith("http"), task.content
    assert task.content.last_frame_url.startswith("http"), task.content
    assert task.usage.completion_tokens > 0, task.usage

    held = tasks.create(
        model="doubao-seedance-2-0-260128",
        content=[
            {"type": "text", "text": "Image 1 is the first frame [[sim:hold]]"},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}, "role": "first_frame"},
        ],
    )
    listed = tasks.list(page_num=1, page_size=10, task_ids=[created.id, held.id])
    assert listed.total == 2, listed
    ids = sorted(item.id for item in listed.items)
    assert ids == sorted([created.id, held.id]), ids
    queued = tasks.list(status="queued")
    assert any(item.id == held.id for item in queued.items), queued

    tasks.delete(held.id)
    assert tasks.get(task_id=held.id).status == "cancelled"
    tasks.delete(created.id)
    try:
        tasks.get(task_id=created.id)
    except Exception as e:  # the SDK raises NotFoundError for 404
        assert "404" in str(e) or "NotFound" in type(e).__name__, e
    else:
        raise AssertionError("a deleted finished task is gone")

    try:
        tasks.create(model="doubao-seedance-2-0-fast-260128", content=[{"type": "text", "text": "x"}], resolution="1080p")
    except Exception as e:
        assert "resolution" in str(e), e
    else:
        raise AssertionError("1080p on the fast model is refused")
    print("ark sdk compat: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
