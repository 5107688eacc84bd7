"""ipywidgets views: a live top-10 table of a board, and a labelled progress bar for long loads.

The logic (rows with rank movement, the accessible HTML table) is plain functions, tested
without a browser; the widgets only show their results. Every control is a labelled native
button or bar, so the view works from the keyboard (Tab to the button, Enter or Space to press).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import ipywidgets as widgets

from labkit.errors import BadArgument
from labkit.leaderboards.board import Entry, Leaderboard
from labkit.leaderboards.game import SimulatedGame


@dataclass(frozen=True)
class Row:
    """One line of the view: rank, player, score, and how the rank moved (see `LeaderboardView`)."""

    rank: int
    player: str
    score: float
    move: str


def standings_rows(entries: list[Entry], previous: dict[str, int] | None = None) -> list[Row]:
    """Rows for `entries`; `move` is '▲2' (up 2), '▼1', '=' or 'new' against `previous` ranks."""
    rows = []
    for entry in entries:
        before = None if previous is None else previous.get(entry.player)
        if previous is None:
            move = ""
        elif before is None:
            move = "new"
        elif before > entry.rank:
            move = f"▲{before - entry.rank}"
        elif before < entry.rank:
            move = f"▼{entry.rank - before}"
        else:
            move = "="
        rows.append(Row(entry.rank, entry.player, entry.score, move))
    return rows


def standings_html(rows: list[Row], caption: str) -> str:
    """An accessible HTML table of `rows` (caption, column headers, polite live region)."""
    head = "".join(f'<th scope="col" style="text-align:{a};padding:2px 8px">{h}</th>'
                   for h, a in (("Rank", "right"), ("Player", "left"), ("Score", "right"), ("Move", "left")))
    body = "".join(
        f'<tr><td style="text-align:right;padding:2px 8px">{r.rank}</td>'
        f'<th scope="row" style="text-align:left;padding:2px 8px;font-weight:normal">{html.escape(r.player)}</th>'
        f'<td style="text-align:right;padding:2px 8px">{r.score:g}</td>'
        f'<td style="padding:2px 8px" aria-label="{_spoken(r.move)}">{r.move}</td></tr>'
        for r in rows
    ) or '<tr><td colspan="4">No players on the board yet.</td></tr>'
    return (f'<table aria-live="polite" style="border-collapse:collapse">'
            f'<caption style="text-align:left;font-weight:bold">{html.escape(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _spoken(move: str) -> str:
    if move.startswith("▲"):
        return f"up {move[1:]}"
    if move.startswith("▼"):
        return f"down {move[1:]}"
    return {"=": "no change", "new": "new in the top", "": "no previous standing"}[move]


class LeaderboardView:
    """The top `n` of a board in a table, with a button that plays more rounds of a game.

    Move compares each rank with the table as it stood before: before the last `refresh()`, or,
    while and after `play()` redraws round by round, before the whole `play()` (one button click).
    """

    def __init__(self, board: Leaderboard, n: int = 10, game: SimulatedGame | None = None,
                 rounds_per_click: int = 10) -> None:
        self.board = board
        self.n = n
        self.game = game
        self.rounds_per_click = rounds_per_click
        self._shown: dict[str, int] | None = None  # each player's rank in the table now
        self.rows: list[Row] = []  # what the table shows now
        self.table = widgets.HTML()
        self.status = widgets.Label()
        self.button = widgets.Button(
            description=f"Play {rounds_per_click} rounds", icon="play", disabled=game is None,
            tooltip=f"Play {rounds_per_click} more rounds of the simulated game and refresh the table",
            layout=widgets.Layout(width="auto"),  # as wide as its label, never cut off
        )
        self.button.on_click(lambda _: self.play(self.rounds_per_click))
        self.widget = widgets.VBox([self.table, widgets.HBox([self.button, self.status])])
        self.refresh()

    def refresh(self) -> list[Row]:
        """Read the top `n` again and redraw, Move against the table before; return the rows shown."""
        return self._draw(self._shown)

    def play(self, rounds: int, refresh_every: int = 1) -> None:
        """Play `rounds` rounds of the game, redrawing every `refresh_every` rounds (their results sent in one batch).

        Every redraw's Move is against the table before this call, so the click's whole effect shows.
        """
        if self.game is None:
            raise BadArgument("this view has no game to play: pass game=SimulatedGame(...)")
        before = self._shown

        self.game.play(self.board, rounds, lambda _: self._draw(before), batch_rounds=refresh_every)

    def _draw(self, before: dict[str, int] | None) -> list[Row]:
        pipe = self.board.client.pipeline(transaction=True)  # the top and the count in one round trip
        pipe.zrange(self.board.key, 0, self.n - 1, desc=self.board.order.descending, withscores=True)
        pipe.zcard(self.board.key)
        top, count = pipe.execute()
        entries = [Entry(i + 1, str(p), float(s)) for i, (p, s) in enumerate(top)]
        rows = standings_rows(entries, before)
        self._shown = {r.player: r.rank for r in rows}
        self.rows = rows
        self.table.value = standings_html(rows, f"Top {self.n} of {int(count):,} players")
        played = self.game.rounds_played if self.game is not None else 0
        self.status.value = f"{played:,} rounds played"
        return rows

    def _repr_mimebundle_(self, **kwargs: object) -> dict:
        return self.widget._repr_mimebundle_(**kwargs)


class LoadProgress:
    """A labelled progress bar; call it with how many items are done so far."""

    def __init__(self, total: int, what: str = "players", description: str = "Loading") -> None:
        self.total = total
        self.what = what
        self.bar = widgets.IntProgress(value=0, min=0, max=max(total, 1), description=description,
                                       style={"description_width": "initial"})
        self.label = widgets.Label()
        self.widget = widgets.HBox([self.bar, self.label])
        self(0)

    def __call__(self, done: int) -> None:
        self.bar.value = done
        self.label.value = f"{done:,} of {self.total:,} {self.what}"
        self.bar.bar_style = "success" if done >= self.total else ""

    def _repr_mimebundle_(self, **kwargs: object) -> dict:
        return self.widget._repr_mimebundle_(**kwargs)
