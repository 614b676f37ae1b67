"""Lesson 13, worked solution."""

import asyncio


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
