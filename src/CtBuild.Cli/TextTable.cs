using Spectre.Console;

namespace CtBuild.Cli;

/// <summary>
/// A table that never breaks a cell: Spectre's table when every column fits the terminal at full width,
/// else plain columns padded to width, one line per row (the terminal wraps a long line, but an id stays
/// whole and can be copied). Cells are plain text.
/// </summary>
public sealed class TextTable(params string[] headers)
{
    readonly List<string[]> _rows = [];
    readonly HashSet<int> _rightAligned = [];

    public TextTable RightAlign(int fromColumn)
    {
        for (var c = fromColumn; c < headers.Length; c++) _rightAligned.Add(c);
        return this;
    }

    public TextTable AddRow(params string[] cells)
    {
        if (cells.Length != headers.Length) throw new ArgumentException($"A row needs {headers.Length} cells, got {cells.Length}.", nameof(cells));
        _rows.Add(cells);
        return this;
    }

    int[] Widths => headers.Select((h, c) => _rows.Select(r => r[c].Length).Append(h.Length).Max()).ToArray();

    /// <summary>Whether every column fits the terminal at full width (else <see cref="Write"/> prints plain columns).</summary>
    public bool FitsTerminal => Widths.Sum() + 3 * headers.Length + 2 <= AnsiConsole.Profile.Width;

    public void Write()
    {
        var widths = Widths;
        if (FitsTerminal)
        {
            var table = new Table().Border(TableBorder.Simple);
            for (var c = 0; c < headers.Length; c++)
                table.AddColumn(_rightAligned.Contains(c) ? new TableColumn(Markup.Escape(headers[c])).RightAligned() : new TableColumn(Markup.Escape(headers[c])));
            foreach (var row in _rows) table.AddRow(row.Select(Markup.Escape).ToArray());
            AnsiConsole.Write(table);
            return;
        }
        string Line(string[] cells) => string.Join("  ", cells.Select((s, c) => _rightAligned.Contains(c) ? s.PadLeft(widths[c]) : s.PadRight(widths[c]))).TrimEnd();
        Console.WriteLine(Line(headers));
        foreach (var row in _rows) Console.WriteLine(Line(row));
    }
}
