"""Follow-ups: when a question needs context, how it is rewritten, and the bounded history."""

from __future__ import annotations

import pytest
from conftest import assert_citations_verify

from rag.conversation import (
    Chat,
    context_terms,
    first_quote,
    needs_context,
    quoted_sentences,
    replay,
    rewrite,
)
from rag.records import Answer, Citation, Turn

LETTER = Turn(
    "Who sent the letter to Dunford?",
    "Who sent the letter to Dunford?",
    "Reuters:\n\u201cThe proposal was sent in a July 19 letter by Valery Gerasimov.\u201d [1]",
)


@pytest.mark.parametrize(
    "question",
    ["What did he propose?", "And the refugees?", "What about Iran?", "Why did they refuse it?",
     "When was that?", "more", "Tell me about those", "so what did it say"],
)  # fmt: skip
def test_follow_ups_need_context(question):
    assert needs_context(question)


@pytest.mark.parametrize(
    "question",
    ["Who wrote the op-ed?", "How much will rebuilding Syria cost?",
     "When did the Treasury sanction the charity?", "Which general received the letter?"],
)  # fmt: skip
def test_self_contained_questions_do_not(question):
    assert not needs_context(question)


def test_context_terms_are_the_query_words_and_quoted_names():
    terms = context_terms(LETTER)
    assert terms[:3] == ["sent", "letter", "Dunford"]
    assert "Valery Gerasimov" in terms and "July" in terms


def test_a_quote_of_several_sentences_is_read_sentence_by_sentence():
    # An answer quotes adjacent sentences as one passage; what it said first, and the names
    # that give a follow-up its context, are still its first sentence's.
    text = (
        "Reuters:\n\u201cThe proposal was sent in a July 19 letter by Valery Gerasimov. "
        "Joseph Dunford declined it.\u201d [1]\n\u201cIt was later published.\u201d [2]"
    )
    assert quoted_sentences(text) == [
        "The proposal was sent in a July 19 letter by Valery Gerasimov.",
        "Joseph Dunford declined it.",
        "It was later published.",
    ]
    assert first_quote(text) == "The proposal was sent in a July 19 letter by Valery Gerasimov."
    turn = Turn(LETTER.question, LETTER.query, text)
    assert context_terms(turn) == context_terms(LETTER)


def test_a_resolved_pronoun_is_the_whole_query():
    # A question a person could have typed: the earlier turn's terms would pull the search
    # back to it ("When was Harper Lee born? (wrote Kill Mockingbird Pulitzer ...)").
    assert rewrite("What did he propose?", [LETTER]).query == "What did Valery Gerasimov propose?"


def test_an_unresolved_follow_up_is_searched_with_the_earlier_turn():
    query = rewrite("What did it say?", [LETTER]).query
    assert query.startswith("What did it say? (") and "Dunford" in query


@pytest.mark.parametrize(
    "previous, fragment, asked",
    [("When was Spectre released in the United Kingdom?", "And in the US?",
      "When was Spectre released in the US?"),
     ("How many copies did it sell on the Wii?", "And on the GameCube?",
      "How many copies did it sell on the GameCube?"),
     ("How much storage does the iPod Touch have at most?", "And the iPod Shuffle?",
      "How much storage does the iPod Shuffle have at most?"),
     ("How many refugees does Lebanon host?", "What about Jordan?",
      "How many refugees does Jordan host?"),
     ("What did Iran's foreign minister say?", "And Russia?",
      "What did Russia's foreign minister say?")],
)  # fmt: skip
def test_an_elliptical_follow_up_becomes_the_earlier_question_with_its_part_swapped(
    previous, fragment, asked
):
    r = rewrite(fragment, [Turn(previous, previous + " (terms)", "")])
    assert (r.query, r.asked) == (asked, asked)


@pytest.mark.parametrize(
    "previous, fragment",
    [("What was Beyoncé's second solo album called?", "And her third?"),  # leans on a pronoun
     ("Who composed the music?", "And who supervised the sound?"),  # a question of its own
     ("When did Iran and Russia sign it?", "And Turkey?"),  # two names: which one?
     ("How much does it cost?", "And the price?")],  # a common noun: too loose to place
)  # fmt: skip
def test_a_fragment_without_a_clear_counterpart_keeps_the_old_rewrite(previous, fragment):
    r = rewrite(fragment, [Turn(previous, previous, "")])
    assert r.query.startswith(fragment)


def test_standalone_leaves_self_contained_questions_and_empty_history_alone():
    assert rewrite("Who wrote the op-ed?", [LETTER]).query == "Who wrote the op-ed?"
    assert rewrite("What did he propose?", []).query == "What did he propose?"


def test_standalone_uses_the_latest_turn():
    older = Turn("How much does rebuilding cost?", "How much does rebuilding cost?", "")
    query = rewrite("What did it say?", [older, LETTER]).query
    assert "Dunford" in query and "rebuilding" not in query


def test_replay_asks_earlier_questions_again_so_their_answers_are_context():
    ask = FakeAsk()
    history = ["Who sent the letter?", "  ", LETTER, "What did he propose?"]
    turns = replay(ask, history, keep=2)
    assert turns[0] is LETTER  # Turn records are kept as they are
    assert ask.seen == [[LETTER]]  # the string is asked after the turns before it
    assert turns[1].question == "What did he propose?"
    assert "Gerasimov" in turns[1].query  # "he" resolved from LETTER's quoted answer
    assert turns[1].answer_text == "\u201cWhat did he propose? answered.\u201d [1]"
    assert replay(ask, None) == [] and replay(ask, ["   "]) == []


class FakeAsk:
    """Stands in for Assistant.ask: records the history it was given."""

    def __init__(self) -> None:
        self.seen: list[list[Turn]] = []

    def __call__(self, question: str, history=(), **options) -> Answer:
        self.seen.append(list(history))
        query = rewrite(question.strip(), history).query
        abstained = "hummus" in question
        text = "Nothing." if abstained else f"\u201c{question} answered.\u201d [1]"
        return Answer(text, (), abstained, query, question.strip())


def test_chat_remembers_a_bounded_history_and_resets():
    ask = FakeAsk()
    chat = Chat(ask, max_turns=3)
    for i in range(5):
        chat.ask(f"Question number {i} about the harbour?")
    assert [t.question for t in chat.history] == [
        f"Question number {i} about the harbour?" for i in (2, 3, 4)
    ]
    assert len(ask.seen[-1]) == 3
    chat.reset()
    assert chat.history == []
    chat.ask("A fresh start about bridges?")
    assert ask.seen[-1] == []


def test_empty_questions_are_not_turns_and_abstentions_add_no_context():
    chat = Chat(FakeAsk(), max_turns=6)
    chat.ask("   ")
    assert chat.history == []
    chat.ask("What is a good recipe for hummus?")
    assert chat.history == [
        Turn("What is a good recipe for hummus?", "What is a good recipe for hummus?", "")
    ]


@pytest.mark.slow
def test_follow_up_is_rewritten_with_context_from_the_first_turn(assistant):
    chat = assistant.chat()
    first = chat.ask("Who sent the letter to Dunford?")
    assert not first.rewritten
    second = chat.ask("What did he propose?")
    assert second.question == "What did he propose?"
    assert second.rewritten and second.query != second.question
    assert second.query == "What did Valery Gerasimov propose?"
    assert len(chat.history) == 2 and chat.history[1].query == second.query
    chat.reset()
    assert chat.history == []
    assert not chat.ask("What did he propose?").rewritten  # nothing to lean on any more


@pytest.mark.slow
def test_stateless_ask_with_history_matches_chat(assistant):
    chat = assistant.chat()
    chat.ask("Who sent the letter to Dunford?")
    history = list(chat.history)
    via_chat = chat.ask("What did he propose?")
    stateless = assistant.ask("What did he propose?", history=history)
    assert stateless.query == via_chat.query
    assert [c.start for c in stateless.citations] == [c.start for c in via_chat.citations]
    # Earlier questions as plain strings also give a rewrite (without the quoted names).
    plain = assistant.ask("What did he propose?", history=["Who sent the letter to Dunford?"])
    assert plain.rewritten and "Gerasimov" in plain.query


@pytest.mark.slow
def test_chat_history_is_bounded_by_settings(assistant):
    chat = assistant.chat()
    n = assistant.settings.history_turns
    for i in range(n + 2):
        chat.ask(f"How many refugees returned in year {2010 + i}?")
    assert len(chat.history) == n
    assert chat.history[-1].question.endswith(f"{2010 + n + 1}?")


def test_a_pronoun_names_whom_the_last_turn_was_about():
    makhlouf = Turn("who is rami makhlouf", "who is rami makhlouf", "Fox News:\n“…” [1]")
    assert rewrite("what did he build?", [makhlouf]).asked == "what did rami makhlouf build?"
    assert rewrite("What did he propose?", [LETTER]).asked == "What did Valery Gerasimov propose?"
    member = Turn("Which forum member said it?", "q", "Forum member Thaidream:\n“It.” [1]")
    assert rewrite("What did they say about China?", [member]).asked.startswith(
        "What did Thaidream"
    )
    spokesperson = Turn("What did the IOM spokesperson say?", "q", "Fox News:\n“…” [1]")
    assert (
        rewrite("What's his name?", [spokesperson]).asked == "What's the IOM spokesperson’s name?"
    )


def test_only_a_subject_pronoun_excuses_the_answer_from_naming_its_antecedent():
    assert rewrite("What did he propose?", [LETTER]).given == "Valery Gerasimov"
    assert rewrite("Who funds him?", [LETTER]).given == ""


@pytest.mark.slow
def test_asking_for_the_name_of_an_unnamed_person_abstains(assistant):
    chat = assistant.chat()
    first = chat.ask("What did the IOM spokesperson say about the sanctions?")
    assert not first.abstained
    assert chat.ask("What is his name?").abstained


# Three rewrites that once made broken questions; each earlier answer is what a chat showed.
SCOTTISH_KING = Turn(
    "Which Scottish king introduced Normans to Scotland?",
    "Which Scottish king introduced Normans to Scotland?",
    "Normans:\n\u201cKing David I of Scotland, whose elder brother Alexander I had married "
    "Sybilla of Normandy, was instrumental in introducing Normans and Norman culture to "
    "Scotland.\u201d [1]",
)
PITT = Turn(
    "Who came to power in Britain after the disastrous 1757 campaigns?",
    "Who came to power in Britain after the disastrous 1757 campaigns?",
    "Seven Years' War:\n\u201cAfter the fall of Fort William Henry and the disastrous 1757 "
    "campaigns, William Pitt came to power and increased the number of troops.\u201d [1]",
)
ROLLO = Turn(
    "Who was the Norse leader who swore fealty to King Charles III?",
    "Who was the Norse leader who swore fealty to King Charles III?",
    "Normans:\n\u201cRollo, the Norse leader, swore fealty to King Charles III. In time "
    "The Normans adopted the Frankish language.\u201d [1]",
)


def test_a_question_word_is_never_part_of_the_antecedent():
    got = rewrite("Whom had his elder brother married?", [SCOTTISH_KING])
    assert got.asked == "Whom had the Scottish king\u2019s elder brother married?"
    assert "Which" not in got.query


@pytest.mark.parametrize(
    ("turn", "question", "guess", "kept"),
    [(PITT, "What did he increase?", "Fort William Henry increase", "1757"),
     (ROLLO, "When did the duchy he founded begin?", "The Normans founded", "Rollo"),
     (LETTER, "Where did the two of them meet?", "of Valery Gerasimov meet", "Dunford")],
)  # fmt: skip
def test_an_unsure_pronoun_is_searched_with_its_context_not_replaced(turn, question, guess, kept):
    got = rewrite(question, [turn])
    assert got.asked == question  # no substitution
    assert guess not in got.query
    assert got.query.startswith(f"{question} (")  # the question with the earlier turn's terms
    assert kept in got.query


def test_a_title_in_parentheses_is_not_taken_for_an_author():
    theme = Turn(
        "Who sings the theme song of Spectre?",
        "Who sings the theme song of Spectre?",
        "Spectre (2015 film):\n\u201cThe theme song was written by Sam Smith and Jimmy "
        "Napes.\u201d [1]",
    )
    got = rewrite("Who did he write it with?", [theme])
    assert "Spectre write" not in got.asked


def test_a_turn_remembers_whose_words_its_first_quote_is():
    def cited(author, publisher, kind="article"):
        c = Citation(1, "d.txt", "T", "/d.txt", 0, 3, "It.", author, publisher, None, 1.0, kind)
        return Answer("\u201cIt.\u201d [1]", (c,), False, "q", "q")

    assert Turn.of(cited("Ana Ruiz", "Valley Gazette")).speaker == "Ana Ruiz"
    assert Turn.of(cited("Thaidream", None, "post")).speaker == "Thaidream"
    assert Turn.of(cited(None, "Reuters")).speaker is None  # a publisher is no "he"


@pytest.mark.slow
def test_an_elliptical_follow_up_is_searched_as_a_whole_question_and_cited_exactly(assistant):
    chat = assistant.chat()
    chat.ask("How many refugees does Lebanon host?")
    second = chat.ask("And Jordan?")
    assert second.rewritten and second.query == "How many refugees does Jordan host?"
    assert not second.abstained and second.citations
    assert_citations_verify(second)
    assert any("Jordan" in c.quote for c in second.citations)
