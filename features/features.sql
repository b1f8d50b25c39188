-- Features for the Adult sample. Runs in DuckDB over the view `raw` (the raw table's snapshot).
-- Output: one row per person, the boolean `label`, and the feature columns; types decide encoding
-- (numbers: mean-imputed and scaled; text: one-hot, with missing as its own category).
SELECT
    record_id,
    age,
    workclass,
    education_num,
    marital_status,
    occupation,
    relationship,
    race,
    sex,
    ln(1 + capital_gain) AS log_capital_gain,
    ln(1 + capital_loss) AS log_capital_loss,
    hours_per_week,
    coalesce(native_country = 'United-States', false) AS us_native,
    income = '>50K' AS label
FROM raw
