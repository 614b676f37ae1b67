"""Lesson 13, worked solution."""

import asyncio
import json


# Exercise 13.1
async def ask_all(client, model, questions, limit):
    semaphore = asyncio.Semaphore(limit)

    async def ask(question):
        async with semaphore:  # at most `limit` requests in flight at once
            response = await client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": question}], max_completion_tokens=1000
            )
        return response.choices[0].message.content

    return await asyncio.gather(*(ask(question) for question in questions))  # in the order of `questions`


# Exercise 13.2
def batch_file(model, questions):
    lines = []
    for number, question in enumerate(questions):
        request = {
            "custom_id": f"question-{number}",  # unique: the answers come back matched by it, in any order
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": model,
                "messages": [{"role": "user", "content": question}],
                "max_completion_tokens": 1000,
            },
        }
        lines.append(json.dumps(request) + "\n")  # JSONL: one JSON object per line
    return "".join(lines)
