"""`/sla` in the staff group: the open tickets whose deadlines come next."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import Message

from domain.desk import Desk
from handlers import texts_sla
from handlers.filters import Command, StaffChat
from handlers.ports import HandlerUnitOfWork

LISTED = 15


async def next_deadlines(message: Message, uow: HandlerUnitOfWork, desk: Desk,
                         staff_chat_id: int) -> None:
    """/sla: the next deadlines of the tickets this staff group works on, nearest first."""
    here = message.chat.id
    if here == staff_chat_id:  # every queue but those with a group of their own
        deadlines = await uow.sla.next_deadlines(LISTED, other_queues=[
            queue.key for queue in desk.policy.queues
            if queue.staff_chat_id and queue.staff_chat_id != here])
    else:
        deadlines = await uow.sla.next_deadlines(LISTED, queues=[
            queue.key for queue in desk.policy.queues if queue.staff_chat_id == here])
    await message.reply(texts_sla.next_deadlines(deadlines, desk.policy.staff_timezone,
                                                 desk.clock.now()))


def make_router() -> Router:
    """A fresh router of this module for each dispatcher."""
    router = Router(name="sla")
    router.message.filter(StaffChat())
    router.message.register(next_deadlines, Command("sla"))
    return router
