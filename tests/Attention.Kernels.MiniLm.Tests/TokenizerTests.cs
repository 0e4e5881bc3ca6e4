using Attention.Kernels.MiniLm;
using Xunit;

namespace Attention.Kernels.MiniLm.Tests;

public sealed class TokenizerTests
{
    private static readonly MiniLmTokenizer Tokenizer = new();

    [Fact]
    public void Batch_is_padded_to_the_longest_with_masks_and_lengths()
    {
        // Ids of bert-base-uncased's vocabulary: [CLS] 101, [SEP] 102, [PAD] 0; "the" 1996, "weather" 4633, "." 1012.
        var batch = Tokenizer.Encode(["The weather is lovely today.", "Hi", "It's so sunny outside!"]);
        Assert.Equal(3, batch.Batch);
        Assert.Equal(batch.Lengths.Max(), batch.Length);
        Assert.Equal([8, 3, 9], batch.Lengths); // [CLS] it ' s so sunny outside ! [SEP]
        Assert.Equal([101, 1996, 4633], batch.InputIds[..3]);
        for (int b = 0; b < batch.Batch; b++)
        {
            var ids = batch.InputIds.AsSpan(b * batch.Length, batch.Length);
            var mask = batch.AttentionMask.AsSpan(b * batch.Length, batch.Length);
            Assert.Equal(101, ids[0]);
            Assert.Equal(102, ids[batch.Lengths[b] - 1]);
            for (int t = 0; t < batch.Length; t++)
            {
                Assert.Equal(t < batch.Lengths[b] ? 1 : 0, mask[t]);
                if (t >= batch.Lengths[b])
                    Assert.Equal(0, ids[t]);
            }
        }
        Assert.All(batch.TokenTypeIds, v => Assert.Equal(0, v));
        Assert.Equal(1012, batch.InputIds[6]);
    }

    [Fact]
    public void Rows_are_copies_not_the_tokenizers_reused_buffer()
    {
        // FastBertTokenizer returns views of one internal buffer: a row kept as a view would show the last sentence.
        var batch = Tokenizer.Encode(["alpha beta gamma delta", "x"]);
        Assert.NotEqual(batch.InputIds[1], batch.InputIds[batch.Length + 1]);
        Assert.Equal(Tokenizer.Encode(["alpha beta gamma delta"]).InputIds, batch.InputIds[..batch.Length]);
    }

    [Fact]
    public void Long_input_is_truncated_to_max_length_with_a_final_sep()
    {
        var batch = Tokenizer.Encode([string.Join(' ', Enumerable.Repeat("word", 100))], maxLength: 16);
        Assert.Equal(16, batch.Length);
        Assert.Equal(102, batch.InputIds[15]);
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Tokenizer.Encode([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Encode(["a"], maxLength: 513));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Encode(["a"], maxLength: 1));
    }
}
