"""What users say that a skill does not handle: the simulator's out-of-scope user turns.

A simulated user sometimes says something outside the skill (``UserBehaviour.out_of_scope``)
and the system answers with the skill's fallback response, calling nothing; the dialogue then
goes on where it was. The texts come from the skill's own ``out_of_scope`` utterance sets, from
:data:`GENERIC`, requests and remarks of many kinds, and from :data:`COMPOSED`, requests for
other tasks put together from a few wordings and things to ask for, all written for Colloquy
(none is taken from any evaluation data). A generic text that shares a content word with the skill's own
vocabulary (API names and descriptions, slot types, arguments, return fields, catalogue values)
is left out for that skill: "book a table for two" is not out of scope for a restaurant skill.
"""

from __future__ import annotations

import re

from skillspec import Skill, UserAct

GENERIC: tuple[str, ...] = (
    # weather, time, facts
    "What's the weather going to be like tomorrow?",
    "Is it going to rain this weekend?",
    "How hot will it get today?",
    "Do I need an umbrella this afternoon?",
    "What time is it in Tokyo right now?",
    "How many days until Christmas?",
    "Who won the game last night?",
    "What's the score of the basketball game?",
    "How tall is Mount Everest?",
    "Who wrote Pride and Prejudice?",
    "What's the capital of Australia?",
    "How far away is the moon?",
    "What does photosynthesis mean?",
    "Define the word serendipity.",
    "How do you say thank you in Japanese?",
    "Translate good morning into Spanish.",
    "What's fifteen percent of eighty?",
    "What is the square root of 144?",
    "Convert 30 degrees Celsius to Fahrenheit.",
    "How many ounces are in a pound?",
    "What's the exchange rate from dollars to euros?",
    # chit-chat
    "Tell me a joke.",
    "Do you like music?",
    "What's your favorite color?",
    "Are you a robot?",
    "Who made you?",
    "How old are you?",
    "I'm bored.",
    "Sing me a song.",
    "What's the meaning of life?",
    "Can you keep a secret?",
    "You're not very helpful.",
    "I had a really long day at work.",
    "My cat just knocked a glass off the table.",
    "Do you dream?",
    "Let's play a game.",
    "Tell me something interesting.",
    "asdf jkl qwerty",
    "Blue elephants dance on Tuesdays.",
    # music, media, news
    "Play some jazz.",
    "Put on my workout playlist.",
    "Skip this song.",
    "Turn the volume up.",
    "Who sings this song?",
    "Play the latest episode of my podcast.",
    "What's on TV tonight?",
    "Recommend a good documentary to stream.",
    "Read me today's headlines.",
    "What's happening in the news?",
    "Play the new album by my favorite band.",
    "I want to watch a comedy series tonight.",
    "Find me a good mystery novel to read.",
    "Is there a new season of that show out yet?",
    # home, devices, productivity
    "Turn off the living room lights.",
    "Set the thermostat to 70 degrees.",
    "Lock the front door.",
    "Start the vacuum cleaner.",
    "Set an alarm for 6:30 tomorrow morning.",
    "Wake me up at seven.",
    "Set a timer for ten minutes.",
    "Remind me to call my mom at five.",
    "Add milk and eggs to my shopping list.",
    "What's on my calendar for Friday?",
    "Schedule a meeting with my team next Monday.",
    "Cancel my dentist reminder.",
    "Send a text to Sarah saying I'm running late.",
    "Read my new messages.",
    "Call my brother.",
    "Email my boss that I'm sick today.",
    "Take a note: buy a birthday present for Alex.",
    "What's the battery level on my phone?",
    "Turn on Bluetooth.",
    "My printer won't connect to the wifi.",
    "How do I reset my password?",
    "Update my phone's software.",
    # money
    "What's my checking account balance?",
    "Transfer 200 dollars to my savings account.",
    "Send 40 dollars to Mike for dinner.",
    "Pay my electricity bill.",
    "How are my stocks doing today?",
    "What's the price of gold right now?",
    "Did my paycheck come in?",
    "I think someone stole my credit card.",
    "How much did I spend on groceries last month?",
    # shopping, food at home
    "Order more paper towels.",
    "Where's my package?",
    "I want to return the shoes I bought.",
    "How do I make banana bread?",
    "Give me a recipe for vegetable soup.",
    "How long should I boil an egg?",
    "What can I cook with chicken and rice?",
    "Is coffee bad for you?",
    # health, fitness, personal care
    "How many steps did I walk today?",
    "Start a 30 minute running workout.",
    "I have a headache, what should I take?",
    "Find me a dentist who takes my insurance.",
    "Book me an appointment with a doctor.",
    "I need a haircut this week.",
    "Find a hair stylist nearby.",
    "How many calories are in an apple?",
    "Remind me to take my medicine every night.",
    # getting around
    "How's the traffic on my way to work?",
    "Give me directions to the nearest gas station.",
    "Get me a ride to the airport.",
    "Call me a taxi.",
    "Book a cab for four people.",
    "When is the next bus downtown?",
    "Find me a train ticket to Boston.",
    "I need a bus to Sacramento on Friday.",
    "Where can I park near the stadium?",
    "How long does it take to walk to the park?",
    # travel and places
    "Find me a hotel for two nights.",
    "Book a room near the beach.",
    "I want to rent a car for the weekend.",
    "I need a rental car at the airport.",
    "Search for flights to London next month.",
    "Book me a one-way flight to Denver.",
    "Find a place to eat near me.",
    "Reserve a table for two at an Italian restaurant.",
    "I'm looking for a cheap sushi place.",
    "I want to find an apartment with two bedrooms.",
    "Are there any houses for rent with a garden?",
    "Schedule a visit to see the apartment.",
    "What are some tourist attractions in Rome?",
    "Find me a museum to visit this weekend.",
    "Are there any concerts this Saturday?",
    "Get me two tickets to the football match.",
    "What movies are playing at the cinema tonight?",
    "Buy three tickets for the new action movie.",
    "Is the zoo open on holidays?",
    "Find a campsite by the lake.",
    # pets, family, misc tasks
    "Find a vet that's open on Sundays.",
    "What should I feed my puppy?",
    "Help me write a birthday card for my grandma.",
    "Write a poem about the ocean.",
    "Find a babysitter for Saturday night.",
    "Book a plumber to fix my sink.",
    "When is garbage pickup this week?",
    "How do I get a stain out of a carpet?",
    "What's my horoscope today?",
    "Flip a coin.",
    "Roll a die.",
    "Pick a random number between one and ten.",
)

# Requests for other tasks, put together: most of what users say that a skill does not handle is
# some other task ("I'm looking for a dentist"), worded in many ways.
_ASKING = (
    "I'm looking for {}.",
    "Can you help me find {}?",
    "I need {}.",
    "Could you find me {}?",
    "I want {}.",
    "Please get me {}.",
    "I'd like {}, please.",
    "Help me find {} for this weekend.",
)
_THINGS = (
    "a dentist near me",
    "a doctor who is open on Saturday",
    "a hair salon downtown",
    "a house to rent with a garden",
    "an apartment with two bedrooms",
    "a hotel room for three nights",
    "a place to stay near the beach",
    "a rental car for the week",
    "a cab to the station",
    "a ride to my office",
    "a bus ticket to the coast",
    "train tickets for tomorrow morning",
    "a flight to New York",
    "a cheap Italian restaurant",
    "tickets to the concert on Friday",
    "tickets for the baseball game",
    "a movie to watch tonight",
    "showtimes for the new thriller",
    "a song by my favorite singer",
    "a podcast about history",
    "a good book to read",
    "the weather forecast for Sunday",
    "a plumber to fix my sink",
    "an electrician for tomorrow",
    "a gym with a swimming pool",
    "a yoga class in the evening",
    "a vet for my dog",
    "a babysitter for Saturday night",
    "a new phone plan",
    "a cheaper car insurance",
    "a bank with no monthly fees",
    "a museum to visit",
    "a park where I can walk my dog",
    "a campsite by the lake",
    "someone to clean my house",
    "a birthday present for my sister",
    "flowers delivered to my mom",
    "a recipe for chocolate cake",
    "a mechanic to check my brakes",
)
_DOING = (
    "Book me {}.",
    "Reserve {} for me.",
    "Schedule {}.",
    "Set up {} for next week.",
)
_EVENTS = (
    "an appointment with my dentist",
    "a visit to the doctor",
    "a haircut",
    "a tour of the apartment",
    "a viewing of the house",
    "a massage",
    "a car service appointment",
    "a call with the bank",
    "a meeting with my landlord",
)
COMPOSED: tuple[str, ...] = tuple(a.format(t) for a in _ASKING for t in _THINGS) + tuple(
    d.format(e) for d in _DOING for e in _EVENTS
)

_WORD = re.compile(r"[a-z]+")
# Words that say nothing about a domain: a shared one does not make a text in scope.
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "from",
        "with",
        "by",
        "about",
        "into",
        "over",
        "is",
        "are",
        "be",
        "was",
        "were",
        "am",
        "do",
        "does",
        "did",
        "can",
        "could",
        "would",
        "will",
        "should",
        "may",
        "might",
        "must",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "how",
        "why",
        "please",
        "some",
        "any",
        "all",
        "more",
        "most",
        "other",
        "another",
        "new",
        "next",
        "last",
        "first",
        "get",
        "got",
        "make",
        "made",
        "find",
        "search",
        "look",
        "looking",
        "show",
        "tell",
        "give",
        "need",
        "want",
        "like",
        "book",
        "reserve",
        "help",
        "set",
        "see",
        "go",
        "going",
        "let",
        "just",
        "now",
        "today",
        "tomorrow",
        "time",
        "day",
        "days",
        "week",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "yes",
        "no",
        "not",
        "up",
        "down",
        "out",
        "off",
        "name",
        "number",
        "date",
    ]
)


def _content_words(text: str) -> set[str]:
    words = set()
    for w in _WORD.findall(text.lower()):
        if len(w) > 2 and w not in _STOP:
            words.add(w)
            if w.endswith("s") and len(w) > 3:
                words.add(w[:-1])  # "flights" and "flight", "cars" and "car"
    return words


def _split_name(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).replace("_", " ")


def skill_words(skill: Skill) -> set[str]:
    """The content words of what the skill is about (see the module docstring)."""
    texts: list[str] = [_split_name(skill.name), skill.description]
    for api in skill.apis:
        texts += [_split_name(api.name), api.description]
        texts += [_split_name(a.name) for a in api.arguments] + [_split_name(r.name) for r in api.returns]
    for st in skill.slot_types:
        texts.append(_split_name(st.name))
        for v in st.values:
            texts += [v.value, *v.synonyms]
    return set().union(*(_content_words(t) for t in texts))


def out_of_scope_texts(skill: Skill) -> list[str]:
    """The skill's own out-of-scope examples, then the generic ones that share no content word with it."""
    own = [v for u in skill.utterance_sets if u.act is UserAct.OUT_OF_SCOPE and not u.arguments for v in u.variants]
    words = skill_words(skill)
    return own + [t for t in (*GENERIC, *COMPOSED) if not (_content_words(t) & words)]
