"""Slack callbacks through slack-bolt's AsyncApp: verify, ack inside 3 s, hand neutral events on."""

from __future__ import annotations

import logging
import re
from typing import Any

from aiohttp import ClientError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.parse import (
    CARD_ACTIONS,
    PEOPLE_VERBS,
    block_action,
    command_button,
    comment_submission,
    edit_submission,
    merge_submission,
    override_submission,
    people_submission,
    slash_command,
)
from adapters.slack.render import (
    COMMAND_BUTTON_PREFIX,
    COMMENT_BLOCK,
    COMMENT_CALLBACK,
    EDIT_CALLBACK,
    EDIT_TITLE,
    MERGE_CALLBACK,
    MERGE_INTO,
    OVERRIDE_CALLBACK,
    PEOPLE_BLOCK,
    PEOPLE_CALLBACK,
    command_answer,
    comment_modal,
    edit_modal,
    escape_mrkdwn,
    merge_modal,
    override_modal,
    people_modal,
)
from core.ports import ActionReply, InboundHandler, RawRequest, RawResponse

COMMANDS = ("/oncall", "/incident")
log = logging.getLogger(__name__)


def build_app(signing_secret: str, client: AsyncWebClient, handler: InboundHandler) -> AsyncApp:
    """A Bolt app whose listeners only translate to and from the neutral inbound handler."""
    # the web layer verified the signature already, with the injected clock (adapters/slack/verify.py)
    app = AsyncApp(signing_secret=signing_secret, client=client, process_before_response=True,
                   request_verification_enabled=False)

    async def on_card_action(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond,
                             client: AsyncWebClient) -> None:
        await ack()
        action = block_action(body)
        if action is None:
            return
        reply = await handler.on_action(action)
        try:
            if reply.form is not None and body.get("trigger_id"):
                form = reply.form
                if action.action in PEOPLE_VERBS:
                    view = people_modal(action.incident_id, action.action, form, action.channel)
                elif action.action == "edit":
                    view = edit_modal(action.incident_id, form, reply.choices, action.channel)
                elif action.action == "merge":
                    view = merge_modal(action.incident_id, form, action.channel)
                else:
                    view = comment_modal(action.incident_id, form["title"], form["label"], form["submit"],
                                         form["cancel"])
                await client.views_open(trigger_id=body["trigger_id"], view=view)
            elif reply.text and body.get("response_url"):
                # answers to clicks carry no markup of ours but may quote alert labels: shown as written
                await respond(text=escape_mrkdwn(reply.text), response_type="ephemeral", replace_original=False)
        except (SlackApiError, ClientError, TimeoutError) as error:
            # the click itself was handled; only the private answer could not be shown
            log.warning("slack answer to a click failed: %s", type(error).__name__)

    for action_id in CARD_ACTIONS:
        app.action(action_id)(on_card_action)

    async def answer_form(ack: AsyncAck, block: str, reply: ActionReply | None) -> None:
        """Close the modal, or keep it open with the reason under `block` (Slack shows at most 150 chars)."""
        if reply is None:  # the submission was not one of our forms' shapes
            await ack(response_action="errors", errors={block: "?"})
        elif not reply.ok and reply.text:
            await ack(response_action="errors", errors={block: reply.text[:150]})
        else:
            await ack()

    @app.view(COMMENT_CALLBACK)
    async def on_comment(ack: AsyncAck, body: dict[str, Any]) -> None:
        action = comment_submission(body)
        await answer_form(ack, COMMENT_BLOCK, await handler.on_action(action) if action else None)

    @app.view(EDIT_CALLBACK)
    async def on_edit(ack: AsyncAck, body: dict[str, Any]) -> None:
        action = edit_submission(body)
        await answer_form(ack, EDIT_TITLE, await handler.on_action(action) if action else None)

    # the people picker and the merge form stand for `/incident reassign|add|merge …`: they share its path
    @app.view(PEOPLE_CALLBACK)
    async def on_people(ack: AsyncAck, body: dict[str, Any]) -> None:
        command = people_submission(body)
        await answer_form(ack, PEOPLE_BLOCK, await handler.on_command(command) if command else None)

    @app.view(MERGE_CALLBACK)
    async def on_merge(ack: AsyncAck, body: dict[str, Any]) -> None:
        command = merge_submission(body)
        await answer_form(ack, MERGE_INTO, await handler.on_command(command) if command else None)

    async def on_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        reply = await handler.on_command(slash_command(body))
        if reply.form is not None:
            await open_form(client, body.get("trigger_id"), reply)
            await ack()
        elif reply.buttons:
            await ack(text=reply.text or "", blocks=command_answer(reply.text or "", reply.buttons))
        else:
            await ack(text=reply.text or "")

    async def open_form(client: AsyncWebClient, trigger_id: str | None, reply: ActionReply) -> None:
        if not trigger_id or reply.form is None:
            return
        try:
            await client.views_open(trigger_id=trigger_id, view=override_modal(reply.form, reply.choices))
        except (SlackApiError, ClientError, TimeoutError) as error:
            log.warning("slack could not open the form: %s", type(error).__name__)

    @app.action(re.compile(f"^{COMMAND_BUTTON_PREFIX}"))
    async def on_command_button(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                                respond: AsyncRespond) -> None:
        await ack()
        command = command_button(body)
        if command is None:
            return
        reply = await handler.on_command(command)
        if reply.form is not None:
            await open_form(client, body.get("trigger_id"), reply)
        elif reply.text and body.get("response_url"):
            await respond(text=reply.text, response_type="ephemeral", replace_original=False)

    @app.view(OVERRIDE_CALLBACK)
    async def on_override_form(ack: AsyncAck, body: dict[str, Any]) -> None:
        request = override_submission(body)
        if request is None:
            await ack(response_action="errors", errors={"end": "?"})
            return
        reply = await handler.on_override(request)
        if not reply.ok and reply.text:
            await ack(response_action="errors", errors={"end": reply.text[:150]})
        else:
            await ack()

    for command in COMMANDS:
        app.command(command)(on_command)
    return app


async def dispatch(app: AsyncApp, request: RawRequest) -> RawResponse:
    """Run one verified request through Bolt and give back its answer."""
    try:
        bolt_request = AsyncBoltRequest(body=request.body.decode("utf-8", errors="replace"),
                                        query=dict(request.query), headers=dict(request.headers))
    except ValueError:  # a body Bolt cannot parse (not form nor JSON, or a payload that is not JSON)
        return RawResponse(status=400, body=b'{"error": "malformed Slack payload"}',
                           headers={"content-type": "application/json"})
    response = await app.async_dispatch(bolt_request)
    headers = {key: values[0] for key, values in response.headers.items() if values}
    return RawResponse(status=response.status, body=response.body.encode(), headers=headers)
