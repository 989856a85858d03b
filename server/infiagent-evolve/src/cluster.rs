//! Do an agent's tasks fall into two groups? Words (lower-cased, stop words out),
//! TF-IDF vectors, cosine similarity, two-means seeded with the least similar pair.

use std::collections::{BTreeMap, BTreeSet};

/// Words that say nothing about what a task is about.
const STOP_WORDS: &[&str] = &[
    "the", "and", "for", "with", "from", "into", "that", "this", "these", "those", "then", "than",
    "its", "are", "was", "were", "been", "being", "have", "has", "had", "not", "but", "all", "any",
    "each", "every", "some", "your", "you", "our", "can", "could", "should", "would", "will",
    "shall", "may", "might", "must", "please", "make", "sure", "also", "only", "just", "what",
    "which", "who", "how", "when", "where", "why", "there", "here", "them", "they", "their",
    "it's", "out", "over", "under", "about", "onto", "off", "via", "per", "one", "two", "new",
    "use", "using", "file", "files", "task",
];

/// Two groups of tasks and how far apart they are.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TwoClusters {
    /// Indexes of the tasks in each group (each sorted, the group of task 0 first).
    pub groups: [Vec<usize>; 2],
    /// Mean cosine similarity of pairs across the groups.
    pub cross_similarity: f64,
    /// Mean cosine similarity of pairs inside a group.
    pub within_similarity: f64,
    /// The words that weigh most in each group and not in the other, the heaviest first.
    pub keywords: [Vec<String>; 2],
}

/// Lower-cased words of three letters or more, without stop words and numbers.
pub(crate) fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|word| word.chars().count() >= 3)
        .filter(|word| !word.chars().all(|c| c.is_ascii_digit()))
        .filter(|word| !STOP_WORDS.contains(&word.as_str()))
        .collect()
}

/// Jaccard similarity of the word sets of two texts (1 for two texts without words).
pub(crate) fn jaccard(left: &str, right: &str) -> f64 {
    let left: BTreeSet<String> = words(left).into_iter().collect();
    let right: BTreeSet<String> = words(right).into_iter().collect();
    if left.is_empty() && right.is_empty() {
        return 1.0;
    }
    let shared = left.intersection(&right).count();
    let all = left.union(&right).count();
    shared as f64 / all as f64
}

type Vector = BTreeMap<String, f64>;

/// Unit TF-IDF vectors of the texts.
fn tf_idf(texts: &[String]) -> Vec<Vector> {
    let tokenized: Vec<Vec<String>> = texts.iter().map(|text| words(text)).collect();
    let mut document_frequency: BTreeMap<&str, usize> = BTreeMap::new();
    for tokens in &tokenized {
        let distinct: BTreeSet<&str> = tokens.iter().map(String::as_str).collect();
        for word in distinct {
            *document_frequency.entry(word).or_default() += 1;
        }
    }
    let count = texts.len() as f64;
    tokenized
        .iter()
        .map(|tokens| {
            let mut vector = Vector::new();
            for word in tokens {
                *vector.entry(word.clone()).or_default() += 1.0;
            }
            for (word, weight) in &mut vector {
                let frequency = document_frequency.get(word.as_str()).copied().unwrap_or(1);
                *weight *= ((count + 1.0) / (frequency as f64 + 1.0)).ln() + 1.0;
            }
            normalized(vector)
        })
        .collect()
}

fn normalized(mut vector: Vector) -> Vector {
    let norm = vector
        .values()
        .map(|weight| weight * weight)
        .sum::<f64>()
        .sqrt();
    if norm > 0.0 {
        for weight in vector.values_mut() {
            *weight /= norm;
        }
    }
    vector
}

fn cosine(left: &Vector, right: &Vector) -> f64 {
    left.iter()
        .filter_map(|(word, weight)| right.get(word).map(|other| weight * other))
        .sum()
}

fn centroid(vectors: &[Vector], members: &[usize]) -> Vector {
    let mut sum = Vector::new();
    for member in members {
        for (word, weight) in &vectors[*member] {
            *sum.entry(word.clone()).or_default() += weight;
        }
    }
    normalized(sum)
}

fn mean_similarity(pairs: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = pairs.fold((0.0, 0usize), |(sum, count), value| {
        (sum + value, count + 1)
    });
    if count == 0 { 0.0 } else { sum / count as f64 }
}

/// Splits the texts into two groups: seeded with the least similar pair, then each
/// text goes to the nearer centroid until nothing moves. `None` for fewer than two
/// texts or when every text lands in one group.
pub(crate) fn two_clusters(texts: &[String]) -> Option<TwoClusters> {
    if texts.len() < 2 {
        return None;
    }
    let vectors = tf_idf(texts);
    let mut seeds = (0, 1);
    let mut lowest = f64::INFINITY;
    for left in 0..vectors.len() {
        for right in left + 1..vectors.len() {
            let similarity = cosine(&vectors[left], &vectors[right]);
            if similarity < lowest {
                lowest = similarity;
                seeds = (left, right);
            }
        }
    }
    let mut centroids = [vectors[seeds.0].clone(), vectors[seeds.1].clone()];
    let mut assignment: Vec<usize> = Vec::new();
    for _ in 0..20 {
        let next: Vec<usize> = vectors
            .iter()
            .map(|vector| {
                usize::from(cosine(vector, &centroids[1]) > cosine(vector, &centroids[0]))
            })
            .collect();
        if next == assignment {
            break;
        }
        assignment = next;
        let members = |group: usize| -> Vec<usize> {
            (0..assignment.len())
                .filter(|index| assignment[*index] == group)
                .collect()
        };
        centroids = [
            centroid(&vectors, &members(0)),
            centroid(&vectors, &members(1)),
        ];
    }
    let mut groups: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    for (index, group) in assignment.iter().enumerate() {
        groups[*group].push(index);
    }
    if groups.iter().any(Vec::is_empty) {
        return None;
    }
    if groups[1].first() < groups[0].first() {
        groups.swap(0, 1);
        centroids.swap(0, 1);
    }
    let cross_similarity = mean_similarity(groups[0].iter().flat_map(|left| {
        groups[1]
            .iter()
            .map(|right| cosine(&vectors[*left], &vectors[*right]))
            .collect::<Vec<_>>()
    }));
    let within_similarity = mean_similarity(groups.iter().flat_map(|group| {
        let mut pairs = Vec::new();
        for (position, left) in group.iter().enumerate() {
            for right in &group[position + 1..] {
                pairs.push(cosine(&vectors[*left], &vectors[*right]));
            }
        }
        pairs
    }));
    let keywords = [
        distinctive_words(&centroids[0], &centroids[1]),
        distinctive_words(&centroids[1], &centroids[0]),
    ];
    Some(TwoClusters {
        groups,
        cross_similarity,
        within_similarity,
        keywords,
    })
}

/// Words by how much more they weigh in `own` than in `other`, the heaviest first.
fn distinctive_words(own: &Vector, other: &Vector) -> Vec<String> {
    let mut scored: Vec<(&String, f64)> = own
        .iter()
        .map(|(word, weight)| (word, weight - other.get(word).copied().unwrap_or(0.0)))
        .filter(|(_, margin)| *margin > 0.0)
        .collect();
    scored.sort_by(|left, right| right.1.total_cmp(&left.1).then_with(|| left.0.cmp(right.0)));
    scored.into_iter().map(|(word, _)| word.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| item.to_string()).collect()
    }

    #[test]
    fn tasks_about_two_things_fall_apart() {
        let tasks = texts(&[
            "parse the csv columns of sales.csv",
            "plot a bar chart of monthly revenue",
            "read the csv header and parse the columns",
            "draw a line chart plot of the temperatures",
            "parse csv rows with quoted columns",
            "plot a chart of errors per day",
        ]);
        let clusters = two_clusters(&tasks).unwrap();
        assert_eq!(clusters.groups, [vec![0, 2, 4], vec![1, 3, 5]]);
        assert!(clusters.cross_similarity < 0.05, "{clusters:?}");
        assert!(clusters.within_similarity > 0.2, "{clusters:?}");
        assert_eq!(clusters.keywords[0][..2], ["csv", "columns"]);
        assert_eq!(clusters.keywords[1][0], "chart");
    }

    #[test]
    fn similar_tasks_stay_close() {
        let tasks = texts(&[
            "parse the csv columns",
            "parse the csv rows",
            "parse csv columns and rows",
            "parse the csv header",
        ]);
        let clusters = two_clusters(&tasks).unwrap();
        assert!(clusters.cross_similarity > 0.2, "{clusters:?}");
    }

    #[test]
    fn words_and_jaccard() {
        assert_eq!(
            words("Fix the CSV loader: it's 2x slow!"),
            ["fix", "csv", "loader", "slow"]
        );
        assert!((jaccard("fix the csv loader", "Fix the CSV loader.") - 1.0).abs() < 1e-9);
        assert!(jaccard("fix the csv loader", "plot a chart") < 0.01);
        assert!(two_clusters(&texts(&["only one"])).is_none());
    }
}
