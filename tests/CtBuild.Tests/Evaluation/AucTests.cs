using CtBuild.Evaluation;

namespace CtBuild.Tests.Evaluation;

public class AucTests
{
    [Theory]
    [InlineData(50, 2)]
    [InlineData(200, 3)]
    [InlineData(500, 7)]
    [InlineData(1000, 1000)]
    public void Matches_the_pairwise_definition_on_random_cases_with_many_ties(int n, int levels)
    {
        for (int seed = 0; seed < 5; seed++)
        {
            var (labels, scores) = EvaluationData.Tied(n, levels, seed);
            Assert.Equal(EvaluationData.BruteForceAuc(labels, scores), Auc.Compute(labels, scores), 12);
        }
    }

    [Fact]
    public void Perfect_reversed_and_all_tied_scores_give_1_0_and_one_half()
    {
        bool[] labels = [false, false, true, true];
        Assert.Equal(1.0, Auc.Compute(labels, [0.1, 0.2, 0.3, 0.4]));
        Assert.Equal(0.0, Auc.Compute(labels, [0.4, 0.3, 0.2, 0.1]));
        Assert.Equal(0.5, Auc.Compute(labels, [0.7, 0.7, 0.7, 0.7]));
    }

    [Fact]
    public void One_class_is_refused_because_auc_is_undefined()
    {
        var error = Assert.Throws<CtBuildException>(() => Auc.Compute([true, true], [0.2, 0.9]));
        Assert.Contains("AUC is undefined", error.Message);
        Assert.Contains("only positive labels", error.Message);
    }

    [Fact]
    public void Nan_score_is_refused_with_its_row_index()
    {
        var error = Assert.Throws<CtBuildException>(() => Auc.Compute([true, false, true], [0.2, 0.4, double.NaN]));
        Assert.Contains("row 2", error.Message);
    }

    [Fact]
    public void Scores_and_labels_of_different_lengths_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => Auc.Compute([true, false], [0.2, 0.4, 0.5]));
        Assert.Contains("3 rows but the labels have 2", error.Message);
    }
}
