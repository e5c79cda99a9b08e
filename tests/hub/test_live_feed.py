"""The live feed: fan-out to bounded client buffers, resync of a slow client, replay by id."""

from __future__ import annotations

import asyncio
import json
import threading

from hub.live import LiveEvent, LiveFeed, LiveTopic, Take


def _taps(n: int, start: int = 0) -> list[LiveEvent]:
    return [LiveEvent(LiveTopic.CHECKINS, {"n": start + i}) for i in range(n)]


def _numbers(taken: Take) -> list[int]:
    return [json.loads(e.json)["n"] for e in taken.events]


def test_a_client_gets_only_its_topics_in_order() -> None:
    async def run() -> Take:
        feed = LiveFeed()
        sub = feed.subscribe([LiveTopic.CHECKINS], asyncio.get_running_loop())
        feed.publish([*_taps(3), LiveEvent(LiveTopic.DEVICES, {"n": 99})])
        return await sub.take(1.0)

    taken = asyncio.run(run())
    assert _numbers(taken) == [0, 1, 2]
    assert not taken.resync
    assert [e.seq for e in taken.events] == [1, 2, 3]


def test_publishing_from_another_thread_wakes_the_client() -> None:
    async def run() -> Take:
        feed = LiveFeed()
        sub = feed.subscribe(list(LiveTopic), asyncio.get_running_loop())
        threading.Thread(target=feed.publish, args=(_taps(2),)).start()
        return await sub.take(5.0)

    assert _numbers(asyncio.run(run())) == [0, 1]


def test_a_slow_client_loses_its_buffer_and_is_told_to_resync_without_slowing_others() -> None:
    async def run() -> tuple[Take, Take]:
        feed = LiveFeed(client_buffer=10)
        loop = asyncio.get_running_loop()
        slow = feed.subscribe(list(LiveTopic), loop)
        fast = feed.subscribe(list(LiveTopic), loop)
        for start in range(0, 25, 5):
            feed.publish(_taps(5, start))
            if start < 10:
                assert len((await fast.take(1.0)).events) == 5
        await fast.take(1.0)
        return await slow.take(1.0), await fast.take(0.01)

    slow, fast = asyncio.run(run())
    assert slow.resync
    assert _numbers(slow) == list(range(20, 25)), "keeps what came after the overflow"
    assert not fast.resync


def test_a_reconnecting_client_gets_what_it_missed_or_is_told_to_resync() -> None:
    async def run() -> None:
        feed = LiveFeed(replay=10)
        loop = asyncio.get_running_loop()
        feed.subscribe(list(LiveTopic), loop)  # another page stays connected
        feed.publish(_taps(5))
        resumed = feed.subscribe(list(LiveTopic), loop, feed.event_id(3))
        assert resumed.resumed
        assert _numbers(await resumed.take(1.0)) == [3, 4]

        up_to_date = feed.subscribe(list(LiveTopic), loop, feed.event_id(5))
        assert up_to_date.resumed

        feed.publish(_taps(20, 5))  # the ring now holds 16..25 only
        too_old = feed.subscribe(list(LiveTopic), loop, feed.event_id(3))
        assert not too_old.resumed
        assert (await too_old.take(0.01)).events == []

        other_hub = feed.subscribe(list(LiveTopic), loop, "0123456789ab-24")
        assert not other_hub.resumed
        from_the_future = feed.subscribe(list(LiveTopic), loop, feed.event_id(99))
        assert not from_the_future.resumed
        assert not feed.subscribe(list(LiveTopic), loop, "garbage").resumed

    asyncio.run(run())


def test_close_ends_every_subscription_and_later_ones() -> None:
    async def run() -> None:
        feed = LiveFeed()
        loop = asyncio.get_running_loop()
        sub = feed.subscribe(list(LiveTopic), loop)
        assert feed.client_count == 1
        feed.close()
        assert (await sub.take(5.0)).closed
        assert feed.client_count == 0
        assert (await feed.subscribe(list(LiveTopic), loop).take(5.0)).closed
        feed.publish(_taps(1))  # ignored, no error

    asyncio.run(run())


def test_unsubscribed_clients_are_forgotten() -> None:
    async def run() -> None:
        feed = LiveFeed()
        sub = feed.subscribe(list(LiveTopic), asyncio.get_running_loop())
        feed.unsubscribe(sub)
        feed.publish(_taps(1))
        assert feed.client_count == 0

    asyncio.run(run())


def test_events_nobody_listened_to_cannot_be_resumed_from_before() -> None:
    async def run() -> None:
        feed = LiveFeed()
        loop = asyncio.get_running_loop()
        listener = feed.subscribe(list(LiveTopic), loop)
        feed.publish(_taps(2))
        feed.unsubscribe(listener)
        feed.skip()  # the publisher had something, but no client
        late = feed.subscribe(list(LiveTopic), loop, feed.event_id(2))
        assert not late.resumed, "it missed what was skipped"
        feed.publish(_taps(1))
        assert feed.subscribe(list(LiveTopic), loop, feed.event_id(4)).resumed

    asyncio.run(run())
